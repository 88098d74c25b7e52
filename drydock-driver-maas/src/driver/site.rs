//! Site-wide operations: service checks, images and kernels, SSH keys, package repositories.
//!
//! * `validate_services`: `version/` answers (else the client's error: unreachable ⇒
//!   transient); the key is accepted (else `Unauthorized`); boot images are not importing
//!   (`Transient`: it ends by itself) and at least one exists (`Permanent`); at least one rack
//!   controller is registered (`Permanent`) and every rack controller is healthy (`http`, `dhcpd`,
//!   `rackd`, `tftp` running or off; else `Transient`, naming the racks and services).
//! * `available_platforms`: boot resources `ubuntu/jammy` with architecture `amd64/ga-22.04` and
//!   sub-architectures `generic,ga-22.04,hwe-22.04` give image `jammy` with kernels
//!   `ga-22.04`, `hwe-22.04` (`generic` is not a kernel choice).
//! * `configure_user_credentials`: each region `authorized_keys` entry missing from the API user's
//!   keys is added (compared with whitespace normalised).
//! * `configure_provisioner`: each region repository is created, or updated when a field
//!   differs; `remove_unlisted` deletes the others except MAAS' `main_archive` and
//!   `ports_archive`. For those two default archives the design's components become
//!   `disabled_components` (MAAS does not allow components there).

use std::collections::BTreeSet;

use drydock_core::design::{RepoType, Repository};
use drydock_core::driver::{DriverError, DriverErrorKind, Operation, PlatformCatalog, SiteJob};

use super::{Cx, MaasDriver, MaasResultExt};
use crate::RepositorySpec;
use crate::models::PackageRepository;

const DEFAULT_REPOS: [&str; 2] = ["main_archive", "ports_archive"];

fn norm_key(k: &str) -> String {
    k.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The MAAS form of a design repository.
fn repo_spec(r: &Repository) -> RepositorySpec {
    let default = DEFAULT_REPOS.contains(&r.name.as_str());
    let (components, disabled_components) = if default {
        (
            Vec::new(),
            r.disabled_components()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        )
    } else {
        (r.components.clone(), Vec::new())
    };
    let disabled_pockets = if r.repo_type == RepoType::Apt {
        r.disabled_subrepos()
            .into_iter()
            .map(str::to_owned)
            .collect()
    } else {
        Vec::new()
    };
    RepositorySpec {
        name: Some(r.name.clone()),
        url: Some(r.url.clone()),
        distributions: r.distributions.clone(),
        components,
        disabled_components,
        disabled_pockets,
        arches: if r.arches.is_empty() {
            vec!["amd64".to_owned()]
        } else {
            r.arches.clone()
        },
        key: r.gpgkey.clone(),
        enabled: Some(true),
    }
}

fn set(v: &[String]) -> BTreeSet<&str> {
    v.iter().map(String::as_str).collect()
}

/// Whether MAAS' repository already has every field of `spec`.
fn repo_matches(have: &PackageRepository, spec: &RepositorySpec) -> bool {
    spec.url.as_deref() == Some(have.url.as_str())
        && set(&spec.distributions) == set(&have.distributions)
        && set(&spec.components) == set(&have.components)
        && set(&spec.disabled_components) == set(&have.disabled_components)
        && set(&spec.disabled_pockets) == set(&have.disabled_pockets)
        && set(&spec.arches) == set(&have.arches)
        && spec.key.as_deref().unwrap_or("") == have.key
        && have.enabled
}

impl MaasDriver {
    pub(crate) async fn do_validate_services(&self) -> Result<(), DriverError> {
        let cx = Cx::site(Operation::ValidateNodeServices);
        let c = &self.client;
        c.version().await.cx(&cx, "connecting to MAAS")?;
        c.check_authentication()
            .await
            .cx(&cx, "authenticating with MAAS")?;
        if c.boot_resources()
            .is_importing()
            .await
            .cx(&cx, "checking boot image import")?
        {
            return Err(cx.error(
                DriverErrorKind::Transient,
                "MAAS is still importing boot resources",
            ));
        }
        if c.boot_resources()
            .list()
            .await
            .cx(&cx, "listing boot resources")?
            .is_empty()
        {
            return Err(cx.permanent("MAAS has no boot resources"));
        }
        let racks = c
            .rack_controllers()
            .list()
            .await
            .cx(&cx, "listing rack controllers")?;
        if racks.is_empty() {
            return Err(cx.permanent("no rack controllers registered in MAAS"));
        }
        let unhealthy: Vec<String> = racks
            .iter()
            .filter(|r| !r.is_healthy())
            .map(|r| {
                let bad: Vec<String> = r
                    .service_set
                    .iter()
                    .filter(|s| {
                        crate::models::RackController::REQUIRED_SERVICES.contains(&s.name.as_str())
                    })
                    .filter(|s| !matches!(s.status.as_str(), "running" | "off"))
                    .map(|s| format!("{} {}", s.name, s.status))
                    .collect();
                format!("{} ({})", r.hostname, bad.join(", "))
            })
            .collect();
        if !unhealthy.is_empty() {
            return Err(cx.error(
                DriverErrorKind::Transient,
                format!("rack controllers not healthy: {}", unhealthy.join("; ")),
            ));
        }
        Ok(())
    }

    pub(crate) async fn do_available_platforms(&self) -> Result<PlatformCatalog, DriverError> {
        let cx = Cx::site(Operation::AvailablePlatforms);
        let resources = self
            .client
            .boot_resources()
            .list()
            .await
            .cx(&cx, "listing boot resources")?;
        let mut catalog = PlatformCatalog::default();
        for r in resources {
            let image = r.name.rsplit('/').next().unwrap_or(&r.name).to_owned();
            let kernels = catalog.images.entry(image).or_default();
            let subarch = r.architecture.split_once('/').map(|(_, s)| s);
            let candidates = subarch
                .into_iter()
                .chain(r.subarches.split(','))
                .map(str::trim)
                .filter(|k| !k.is_empty() && *k != "generic");
            for k in candidates {
                if !kernels.iter().any(|x| x == k) {
                    kernels.push(k.to_owned());
                }
            }
            kernels.sort();
        }
        Ok(catalog)
    }

    pub(crate) async fn do_user_credentials(&self, job: SiteJob<'_>) -> Result<(), DriverError> {
        let cx = Cx::site(Operation::ConfigureUserCredentials);
        let Some(region) = &job.design.site.region else {
            return Ok(());
        };
        if region.authorized_keys.is_empty() {
            return Ok(());
        }
        let have: BTreeSet<String> = self
            .client
            .ssh_keys()
            .list()
            .await
            .cx(&cx, "listing SSH keys")?
            .iter()
            .map(|k| norm_key(&k.key))
            .collect();
        for key in &region.authorized_keys {
            let key = norm_key(key);
            if key.is_empty() || have.contains(&key) {
                continue;
            }
            let shown: String = key.chars().take(24).collect();
            tracing::info!(key = %shown, "adding SSH key to MAAS");
            self.client
                .ssh_keys()
                .create(&key)
                .await
                .cx(&cx, &format!("adding SSH key {shown}…"))?;
        }
        Ok(())
    }

    pub(crate) async fn do_provisioner(&self, job: SiteJob<'_>) -> Result<(), DriverError> {
        let cx = Cx::site(Operation::ConfigureProvisioner);
        let Some(region) = &job.design.site.region else {
            return Ok(());
        };
        let repos = &region.repositories;
        if repos.repositories.is_empty() && !repos.remove_unlisted {
            return Ok(());
        }
        let api = self.client.package_repositories();
        let have = api.list().await.cx(&cx, "listing package repositories")?;
        for r in &repos.repositories {
            let spec = repo_spec(r);
            match have.iter().find(|h| h.name == r.name) {
                Some(h) if repo_matches(h, &spec) => {}
                Some(h) => {
                    api.update(h.id, &spec)
                        .await
                        .cx(&cx, &format!("updating repository {}", r.name))?;
                }
                None => {
                    api.create(&spec)
                        .await
                        .cx(&cx, &format!("creating repository {}", r.name))?;
                }
            }
        }
        if repos.remove_unlisted {
            for h in &have {
                let listed = repos.repositories.iter().any(|r| r.name == h.name);
                if !listed && !DEFAULT_REPOS.contains(&h.name.as_str()) {
                    api.delete(h.id)
                        .await
                        .cx(&cx, &format!("deleting repository {}", h.name))?;
                }
            }
        }
        Ok(())
    }
}
