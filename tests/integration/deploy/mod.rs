//! The deployment pieces in `dist/deploy/` with a real nginx: the shared cache in front of the
//! sync service, API replicas behind the load balancer, and the whole topology brought up and
//! down by `local-cluster.sh`.

mod cluster;
mod nginx;
mod nginx_cache;
mod replicas;
