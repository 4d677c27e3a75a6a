//! The native menu: workspace, view and help commands with their shortcuts. Commands the web UI
//! implements (its shortcuts help, the Runners and Connections dialogs) are sent to the page as `polder:menu`
//! events.

use std::path::PathBuf;

use tauri::menu::{AboutMetadataBuilder, MenuBuilder, MenuEvent, MenuItemBuilder, SubmenuBuilder};
use tauri::{AppHandle, Manager};
use tauri_plugin_dialog::{DialogExt, MessageDialogKind};

use crate::window::MAIN;

/// Builds the menu and routes its events.
pub fn install(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItemBuilder::with_id("open_workspace", "Open Workspace…").accelerator("CmdOrCtrl+O").build(app)?;
    let reveal = MenuItemBuilder::with_id("reveal_workspace", "Show Workspace Folder").build(app)?;
    let file = SubmenuBuilder::new(app, "File").item(&open).item(&reveal).separator().quit().build()?;
    let edit = SubmenuBuilder::new(app, "Edit").undo().redo().separator().cut().copy().paste().select_all().build()?;
    let reload = MenuItemBuilder::with_id("reload", "Reload").accelerator("CmdOrCtrl+R").build(app)?;
    let runners = MenuItemBuilder::with_id("runners", "Runners…").build(app)?;
    let connections = MenuItemBuilder::with_id("connections", "Connections…").build(app)?;
    let view =
        SubmenuBuilder::new(app, "View").item(&reload).item(&runners).item(&connections).separator().fullscreen().build()?;
    let shortcuts = MenuItemBuilder::with_id("shortcuts", "Keyboard Shortcuts").build(app)?;
    let about = AboutMetadataBuilder::new()
        .name(Some("Polder"))
        .version(Some(env!("CARGO_PKG_VERSION")))
        .comments(Some("Pipeline IDE for mid data: Polars and DuckDB on one machine"))
        .build();
    let help = SubmenuBuilder::new(app, "Help").item(&shortcuts).about(Some(about)).build()?;
    let menu = MenuBuilder::new(app).items(&[&file, &edit, &view, &help]).build()?;
    app.set_menu(menu)?;
    app.on_menu_event(on_event);
    Ok(())
}

fn on_event(app: &AppHandle, event: MenuEvent) {
    match event.id().as_ref() {
        "open_workspace" => pick_workspace(app),
        "reveal_workspace" => {
            if let Some(ws) = current_workspace(app) {
                crate::window::open_externally(ws);
            }
        }
        "reload" => eval(app, "window.location.reload()"),
        id @ ("runners" | "connections" | "shortcuts") => {
            eval(app, &format!("window.dispatchEvent(new CustomEvent('polder:menu', {{ detail: '{id}' }}))"))
        }
        _ => {}
    }
}

fn eval(app: &AppHandle, js: &str) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.eval(js);
    }
}

fn current_workspace(app: &AppHandle) -> Option<PathBuf> {
    crate::settings::Settings::load(app).last_workspace
}

/// Asks for a folder and relaunches the app on it: a new process gets a fresh runner (runs in
/// flight in the old workspace are recovered by its next start, as after any restart).
fn pick_workspace(app: &AppHandle) {
    let app = app.clone();
    let mut dialog = app.dialog().file().set_title("Open a workspace folder");
    if let Some(ws) = current_workspace(&app) {
        dialog = dialog.set_directory(ws);
    }
    dialog.pick_folder(move |picked| {
        let Some(folder) = picked.and_then(|p| p.into_path().ok()) else { return };
        let relaunch =
            std::env::current_exe().and_then(|exe| std::process::Command::new(exe).arg("--workspace").arg(&folder).spawn());
        match relaunch {
            Ok(_) => app.exit(0),
            Err(e) => {
                app.dialog()
                    .message(format!("Cannot open {}: {e}", folder.display()))
                    .kind(MessageDialogKind::Error)
                    .show(|_| {});
            }
        }
    });
}
