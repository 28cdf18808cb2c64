"""Pure domain logic of duijie: eligibility, duplicates, fairness and fragmentation figures."""
