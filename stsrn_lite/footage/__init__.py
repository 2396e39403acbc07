"""Re-identification in real footage: detect people, track them, cut tracklets, rank them
(issue "Re-identify people in real footage")."""
