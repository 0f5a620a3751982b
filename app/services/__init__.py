"""Operations that change data. They flush and write audit rows; the caller's request commits,
except `transitions.apply_transition`, which is itself one unit of work (DESIGN §4)."""
