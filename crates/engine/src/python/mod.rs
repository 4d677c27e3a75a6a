//! Python tasks' plumbing: what a task's function reads ([`signature`]), the cached virtual
//! environments it runs in ([`env`]), and the child process that calls it ([`child`]).

pub mod child;
pub mod env;
pub mod signature;
