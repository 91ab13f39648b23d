int heretic_dist_placeholder() { return 0; }
