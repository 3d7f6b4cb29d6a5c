//! The deployment pieces in `dist/deploy/` with a real nginx: the shared cache in front of the
//! sync service.

mod nginx;
mod nginx_cache;
mod replicas;
