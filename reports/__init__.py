"""wqrm.reports: self-contained HTML evaluation reports (a later issue builds them)."""
