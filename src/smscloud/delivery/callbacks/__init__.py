"""Status reports and replies pushed to each application's callback URLs: the pusher loop
(``pusher``), one push over HTTP to a checked address (``client``), and per-destination lanes
with their back-off (``destinations``)."""
