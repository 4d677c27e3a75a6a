//! Remote runners' tokens in the OS keyring (the Secret Service over D-Bus: GNOME Keyring,
//! KWallet, KeePassXC). Without one (a headless box, no session bus) the runner keeps them in
//! its owner-only remotes.json instead.

use std::sync::Arc;
use std::time::Duration;

use keyring_core::{CredentialStore, Entry, Error};
use polder_runner::remotes::SecretStore;

/// The service name entries are filed under.
const SERVICE: &str = "polder";

/// The Secret Service, as a [`SecretStore`].
#[derive(Debug)]
pub struct OsKeyring {
    store: Arc<CredentialStore>,
}

impl OsKeyring {
    /// Connects to the Secret Service; `None` (logged) when there is none. A bus that does not
    /// answer within seconds counts as none, so the app never hangs at start.
    pub fn open() -> Option<OsKeyring> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(zbus_secret_service_keyring_store::Store::new());
        });
        match rx.recv_timeout(Duration::from_secs(3)) {
            Ok(Ok(store)) => {
                tracing::info!("remote runners' tokens go to the OS keyring");
                Some(OsKeyring { store })
            }
            Ok(Err(e)) => {
                tracing::info!("no OS keyring ({e}); remote runners' tokens go to remotes.json (owner-only)");
                None
            }
            Err(_) => {
                tracing::warn!("the OS keyring did not answer; remote runners' tokens go to remotes.json (owner-only)");
                None
            }
        }
    }

    fn entry(&self, account: &str) -> Result<Entry, String> {
        self.store.build(SERVICE, account, None).map_err(|e| e.to_string())
    }
}

impl SecretStore for OsKeyring {
    fn describe(&self) -> String {
        "the OS keyring".into()
    }

    fn set(&self, account: &str, secret: &str) -> Result<(), String> {
        self.entry(account)?.set_password(secret).map_err(|e| e.to_string())
    }

    fn get(&self, account: &str) -> Result<Option<String>, String> {
        match self.entry(account)?.get_password() {
            Ok(p) => Ok(Some(p)),
            Err(Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn delete(&self, account: &str) -> Result<(), String> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(Error::NoEntry) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}
