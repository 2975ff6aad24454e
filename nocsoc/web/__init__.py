"""The SOC console: server-rendered pages (FastAPI + Jinja2 + htmx) and the /api/v1 the IOC pulls.

Why FastAPI rather than bare Starlette: the API's OpenAPI document comes from the same pydantic
models the endpoints return, so it cannot drift from them; the pages are plain Starlette
routes underneath. Why htmx (vendored, static/htmx-2.0.4.min.js, 0BSD): partial page updates
(filters, bulk actions, the suppression preview, the IOC refresh) with no node build step and
no client-side state, so every page still works as plain HTML forms.
"""
