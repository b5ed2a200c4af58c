"""notifier: the WebSocket the waiting browser holds; pushes every change of its ticket."""
