"""Small modules for gateway tests, written as third parties write modules: plain Python modules
with ``@hookimpl`` functions that import only the SDK. Tests register them with
``build_registry(plugins=[...], load_entry_points=False)``."""
