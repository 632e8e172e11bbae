"""The Executioner master: keeps the desired number of worker containers per language running on the local
Docker daemon, reconciling Docker's state with the desired counts in MySQL (``pools``) and reporting what it
observes (``pool_status``)."""
