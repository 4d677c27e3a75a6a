//! The HTTP API: one module per resource. The router and its OpenAPI document come from the
//! same `#[utoipa::path]` annotations, so the spec cannot drift from the routes.

pub mod authoring;
pub mod body_limit;
pub mod check;
pub mod connections;
pub mod deploys;
pub mod events;
pub mod health;
pub mod ingest;
pub mod layout;
pub mod names;
pub mod notes;
pub mod outputs;
pub mod pipelines;
pub mod remote_proxy;
pub mod remotes;
pub mod runs;
pub mod status;
pub mod task_history;
pub mod ui;

use std::sync::Arc;

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth;
use crate::state::AppState;

/// The router (auth and Host checks applied to every route) and the OpenAPI document.
pub fn router(state: Arc<AppState>) -> (Router, OpenApi) {
    let (router, mut api) = OpenApiRouter::new()
        .routes(routes!(health::health))
        .routes(routes!(status::status))
        .routes(routes!(status::openapi))
        .routes(routes!(pipelines::list_pipelines, authoring::create))
        .routes(routes!(authoring::add_task))
        .routes(routes!(authoring::update_task, authoring::remove_task))
        .routes(routes!(authoring::rename_task))
        .routes(routes!(authoring::write_sql))
        .routes(routes!(authoring::write_code))
        .routes(routes!(authoring::set_inputs))
        .routes(routes!(authoring::preview))
        .routes(routes!(layout::get_layout, layout::put_layout))
        .routes(routes!(notes::get_notes, notes::put_notes))
        .routes(routes!(outputs::schemas))
        .routes(routes!(pipelines::get_pipeline))
        .routes(routes!(pipelines::validate_spec))
        .routes(routes!(check::check))
        .routes(routes!(pipelines::trigger_run))
        .routes(routes!(pipelines::backfill))
        .routes(routes!(runs::queue))
        .routes(routes!(runs::list_runs))
        .routes(routes!(runs::get_run))
        .routes(routes!(runs::cancel_run))
        .routes(routes!(runs::retry_run))
        .routes(routes!(status::metrics))
        .routes(routes!(runs::task_log))
        .routes(routes!(task_history::task_history))
        .routes(routes!(outputs::run_output))
        .routes(routes!(outputs::latest_output))
        .routes(routes!(outputs::run_output_stats))
        .routes(routes!(outputs::latest_output_stats))
        .routes(routes!(outputs::run_output_export))
        .routes(routes!(outputs::latest_output_export))
        .routes(routes!(runs::task_log_stream))
        .routes(routes!(events::events))
        // Bundles may be large; every other body is capped below.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(deploys::deploy))
                .layer(axum::extract::DefaultBodyLimit::max(deploys::MAX_UPLOAD_BYTES)),
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(ingest::post_rows))
                .layer(axum::extract::DefaultBodyLimit::max(ingest::MAX_INGEST_BODY)),
        )
        .routes(routes!(ingest::list_datasets))
        .routes(routes!(ingest::get_dataset))
        .routes(routes!(ingest::dataset_output))
        .routes(routes!(ingest::flush))
        .routes(routes!(ingest::merge))
        .routes(routes!(ingest::list_tokens, ingest::create_token))
        .routes(routes!(ingest::revoke_token))
        .routes(routes!(deploys::versions))
        .routes(routes!(deploys::rollback))
        .routes(routes!(connections::list_connections))
        .routes(routes!(connections::put_connection, connections::delete_connection))
        .routes(routes!(connections::test_connection))
        .routes(routes!(remotes::list_remotes))
        .routes(routes!(remotes::put_remote, remotes::delete_remote))
        .routes(routes!(remotes::deploy_to_remote))
        .split_for_parts();
    // A catch-all path cannot go through `routes!` (its OpenAPI path would read `{*path}`), so
    // the route is added here and its document merged in.
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(remote_proxy::forward))]
    struct ProxyDoc;
    api.merge(<ProxyDoc as utoipa::OpenApi>::openapi());
    let router =
        router.route("/api/remotes/{name}/api/{*path}", axum::routing::get(remote_proxy::forward).post(remote_proxy::forward));
    // After routing (so the path parameters are known) and after the auth layer below.
    let router = router.route_layer(axum::middleware::from_fn(names::check));
    // OpenApiRouter::new() starts from utoipa's own package metadata; replace all of it.
    api.info.title = "Polder runner API".into();
    api.info.contact = None;
    api.info.license = Some(utoipa::openapi::License::new(env!("CARGO_PKG_LICENSE")));
    api.info.version = env!("CARGO_PKG_VERSION").into();
    api.info.description = Some("Every route but /api/health needs `Authorization: Bearer <token>`.".into());
    let _ = state.openapi.set(api.to_pretty_json().unwrap_or_default());
    let router = router
        .fallback(ui::serve_ui)
        .layer(axum::extract::DefaultBodyLimit::max(crate::heavy::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(body_limit::refuse_oversized))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_auth))
        .with_state(state);
    (router, api)
}
