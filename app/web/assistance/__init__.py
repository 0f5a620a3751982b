"""International partners and pillar-two assistance (issue 18)."""
