"""The study's outputs: tables, figures (:mod:`.figures`) and the HTML report (:mod:`.html`)."""
