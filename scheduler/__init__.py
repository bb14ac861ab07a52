"""Legal publicity campaigns: the calendar, approval and exactly-once mass sends."""
