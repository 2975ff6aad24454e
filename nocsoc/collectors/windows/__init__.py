"""Windows event logs: EVTX files (hunting) and Winlogbeat / NXLog documents (live), all into
LogEvents carrying Sigma's Windows field names and the logsource pySigma's pipelines give them."""
