"""Posting: a stored clip made ready for TikTok, Shorts or Reels.

``framing`` finds the facecam and the action and lays the picture out (stack, crop, fit),
``captions`` turns the clip's words into cues (SRT/VTT out, SRT in) and paints them,
``loudness`` brings the sound to -14 LUFS, and ``render`` reads the clip once and writes an
H.264 + AAC MP4 atomically.
"""
