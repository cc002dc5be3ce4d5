"""Optional access control, off unless configured (the demo needs none).

Two ways, checked in this order:
- an e-mail allowlist (`COMMONGROUND_DASHBOARD_ALLOWED_EMAILS`): people sign in with `st.login`
  (an OpenID Connect provider set up in `.streamlit/secrets.toml` under `[auth]`) and only the listed
  addresses get in;
- a shared password in `.streamlit/secrets.toml`: `[auth]` `password = "…"`.
"""

from __future__ import annotations

import hmac
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAuthError, StreamlitSecretNotFoundError

from warehouse.settings import Settings

SIGNED_IN_KEY = "signed_in_with_password"


def _auth_secrets() -> dict[str, Any]:
    try:
        auth = st.secrets.get("auth")
    except (StreamlitSecretNotFoundError, FileNotFoundError):
        return {}
    return dict(auth) if auth else {}


def password() -> str | None:
    """The shared password from secrets.toml ([auth] password), or None when there is none."""
    value = _auth_secrets().get("password")
    return str(value) if value else None


def allowed_emails() -> list[str]:
    return [email.strip().lower() for email in Settings().dashboard_allowed_emails if email.strip()]


def require_access() -> None:
    """Stop the page unless the visitor may see it (nothing to do when no access control is set)."""
    allowlist = allowed_emails()
    if allowlist:
        _require_allowed_login(allowlist)
    elif password() is not None:
        _require_password(password() or "")


def _require_allowed_login(allowlist: list[str]) -> None:
    if not st.user.is_logged_in:
        st.info("This dashboard is private: sign in with the e-mail address you were invited with.")
        if st.button("Sign in", type="primary", key="access_login"):
            try:
                st.login()
            except StreamlitAuthError as exc:
                st.error(
                    "Sign-in is not set up: add an [auth] section with redirect_uri, cookie_secret, "
                    "client_id, client_secret and server_metadata_url to .streamlit/secrets.toml, or clear "
                    f"COMMONGROUND_DASHBOARD_ALLOWED_EMAILS to turn sign-in off. ({exc})"
                )
        st.stop()
    email = str(st.user.get("email") or "").strip().lower()
    if email not in allowlist:
        st.error(
            "This address is not on the dashboard's list (COMMONGROUND_DASHBOARD_ALLOWED_EMAILS). "
            "Ask whoever runs commonground to add it."
        )
        st.button("Sign out", key="access_logout", on_click=st.logout)
        st.stop()


def _require_password(expected: str) -> None:
    if st.session_state.get(SIGNED_IN_KEY):
        return
    st.info("This dashboard is private: enter the password you were given.")
    given = st.text_input("Password", type="password", key="access_password")
    if given and hmac.compare_digest(given.encode(), expected.encode()):
        st.session_state[SIGNED_IN_KEY] = True
        del st.session_state["access_password"]
        st.rerun()
    if given:
        st.error("That password is not right.")
    st.stop()
