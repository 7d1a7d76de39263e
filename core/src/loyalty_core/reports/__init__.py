"""Reports over a tenant's programme: what a retailer's console charts."""
