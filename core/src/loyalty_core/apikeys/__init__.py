"""API keys: how touchpoints (tills, shops, partner systems) authenticate."""
