"""National action plan pages (issue 17): measures, institutions, indicators, progress, exports."""
