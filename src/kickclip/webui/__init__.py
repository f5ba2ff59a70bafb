"""The web UI (Gradio): Generate Clips, View & Rate, Browse & Download."""
