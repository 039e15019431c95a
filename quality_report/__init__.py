"""The linkage quality report: one offline HTML document per run that a methodologist can
sign off, covering the quality checklist of STUDY.md section 6 item by item."""

from quality_report.build import build_quality_report
from quality_report.config import ReportConfig
from quality_report.errors import QualityReportError, RedactionError

__all__ = ["QualityReportError", "RedactionError", "ReportConfig", "build_quality_report"]
