"""nocsoc.detections."""
