"""The shop's blueprints, one per area: shop, trade-in, checkout, orders, store mode and the back office."""
