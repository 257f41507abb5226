"""What `vae-explorer app` runs: Streamlit's own command line, with the explorer's slow first steps started beside it.

Streamlit runs the app's script only when a browser connects, so the first page would pay for importing torch
and loading the first model (about 2 s here) after the server is up and the browser has loaded the page. A
background thread does that work while the server starts instead; the page then finds the modules imported and
the model service (a process-wide st.cache_resource) built.

    python -m explorer.serve explorer/app.py --server.port 8501 ...   (the arguments of `streamlit run`)
"""
from __future__ import annotations

import logging
import sys
import threading

log = logging.getLogger(__name__)
THREAD = "explorer-warm-up"


class _OutsideScriptRun(logging.Filter):
    """Drops Streamlit's "missing ScriptRunContext" warning for this thread, which runs cached functions outside any
    script run on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD


def warm_up() -> None:
    """Build the model service and load the model the first page opens on."""
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_OutsideScriptRun())
    try:
        from explorer import state

        service = state.service()
        opening = state.opening_model(service.list_models())
        if opening is not None and not opening.error:
            service.latent_stats(opening.id)
    except Exception:  # the page reports any real problem itself; warming up must never stop the server
        log.warning("warming up the model service failed; the first page will do it", exc_info=True)


def main() -> None:
    threading.Thread(target=warm_up, name=THREAD, daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", *sys.argv[1:]]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
