"""Everything that depends on one OpenTelemetry SDK release: version differences and private names.

``_compat`` absorbs the differences between supported SDK releases; every other module imports the
SDK's moving parts from here, so an SDK upgrade is fixed in one place.
"""
