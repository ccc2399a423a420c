"""Qualification policies (MQL, MQA counts, weighted titles, stages) — see the policies issue.

This package will hold the policy kinds, their shared window machinery, the registry and the
shipped YAML policies. It is empty until that work lands.
"""
