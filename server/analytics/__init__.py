"""Privacy-safe analytics: typed events in (client.core.events), a summary for operators out."""
