"""Small pieces shared by the api, master and worker processes: settings fragments, runtime
definitions, Kafka helpers and task lifecycles. It imports no process package."""
