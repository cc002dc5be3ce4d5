"""The weekly report: one ISO week as HTML, PDF, CSVs and Parquet under data_dir/reports/YYYY-Www/."""

from flows.report.flow import resolve_week, weekly_report

__all__ = ["resolve_week", "weekly_report"]
