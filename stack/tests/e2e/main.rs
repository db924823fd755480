//! End-to-end: the three services started through their library entry points on free ports,
//! against real Redis and a real SMTP server on loopback, driven over HTTP as a client would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed step must fail the test loudly"
)]

mod cardinality;
mod client_ip;
mod cluster;
mod deploy_manifests;
mod deploy_prometheus;
mod directory_grpc;
mod directory_grpcs;
mod directory_sql;
mod failover;
mod fuzz;
mod generated_client;
mod grpc_auth;
mod helpers;
mod load;
mod metal;
mod operations;
mod pages;
mod persona;
mod persona_contract;
mod published_client;
mod python;
mod replicas;
mod security;
mod tls;
