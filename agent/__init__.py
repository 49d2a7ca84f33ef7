"""hotel-agent: the product's domain — dialogue turns, the search_hotels tool, data access, the hotel store."""
