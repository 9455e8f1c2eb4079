"""PostgreSQL clusters of our own (a primary, a streaming replica, PgBouncer before it) for
the test suite and the benchmark; never imported by the server, and not in the wheel.

`postgres` runs one cluster (PgCluster), `replication` a primary and its caught-up standby
(replicated_pair), `pgbouncer` PgBouncer in transaction mode in front of a cluster.
"""

from clusters.pgbouncer import PgBouncer
from clusters.postgres import PgCluster
from clusters.replication import Replicated, replicated_pair

__all__ = ["PgBouncer", "PgCluster", "Replicated", "replicated_pair"]
