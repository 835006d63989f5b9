"""Voice carriers: the seam every one implements, a SIP trunk, the simulator, speech."""
