"""The home page and the Client Area: Jinja2 templates, static files and how they are served."""
