"""Everything that depends on one OpenTelemetry release: version differences and private names.

``_compat`` absorbs the differences between supported SDK releases (and re-exports the logs
API and SDK, which live in underscored modules); ``_internals`` holds every touch of an SDK name
that starts with an underscore, behind typed accessors. Every other module imports the SDK's
moving parts from these two, so an SDK upgrade is fixed in one place.
"""
