"""``kickclip serve``: the Gradio app over the same core the CLI uses."""

from __future__ import annotations

import os

from kickclip.settings import DEFAULT_SETTINGS, Settings

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def build_app(
    settings: Settings = DEFAULT_SETTINGS,
    *,
    per_user: bool = False,
    admins: tuple[str, ...] = (),
):
    """The Blocks app; nothing is launched here, so tests can build it without a server.
    With ``per_user``, each logged-in user rates as themselves and only ``admins`` delete."""
    import gradio as gr

    from kickclip.webui import browse_tab, generate_tab, rate_tab, watch_tab

    with gr.Blocks(title="kickclip", analytics_enabled=False) as app:
        gr.Markdown(
            "# kickclip\nLong streams in, rated highlight clips out; your ratings "
            "teach it your taste."
        )
        with gr.Tab("Generate Clips"):
            generate_tab.build(settings)
        with gr.Tab("Watch Live"):
            watch_tab.build(settings)
        with gr.Tab("View & Rate"):
            on_open = rate_tab.build(settings, per_user=per_user)
        with gr.Tab("Browse & Download"):
            browse_tab.build(settings, per_user=per_user, admins=admins)
        for handler, outputs in on_open:
            app.load(handler, outputs=outputs, api_name=False)
        app.unload(watch_tab.page_closed)
    return app


def serve(
    settings: Settings = DEFAULT_SETTINGS,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: list[tuple[str, str]] | None = None,
    admins: tuple[str, ...] = (),
    block: bool = True,
):
    """Bind ``host:port`` (loopback by default) and serve only files inside the clips folder.

    ``auth``: the logins. With one, ratings stay the default user's (as before users existed);
    with several, each user rates as themselves (their own ratings, queue and model), and
    only ``admins`` (logins) delete clips.
    """
    import gradio as gr

    from kickclip.webui import rate_tab

    settings.out.mkdir(parents=True, exist_ok=True)
    app = build_app(settings, per_user=auth is not None and len(auth) > 1, admins=admins)
    # Quick handlers (rating, statistics) of several users at once; media jobs have their own,
    # smaller limit (generate_tab.JOB_CONCURRENCY).
    app.queue(default_concurrency_limit=4, max_size=64)
    app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        allowed_paths=[str(settings.out)],
        prevent_thread_lock=not block,
        show_error=True,
        ssr_mode=False,
        head=rate_tab.KEYS_JS,
        theme=gr.themes.Default(
            font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
        ),
    )
    return app
