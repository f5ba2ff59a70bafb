"""Analyze: media → audio and video feature series, streamed in constant memory."""

from kickclip.analyze.decode import extract_features

__all__ = ["extract_features"]
