//! Tags, SSH keys, package repositories, boot resources, rack controllers.

use super::opt_params;
use crate::models::{
    BootResource, Machine, PackageRepository, RackController, SshKey, Tag, UpdateNodesResult,
};
use crate::{MaasClient, Params, Result};

/// Fields of `POST tags/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagSpec {
    /// Name.
    pub name: String,
    /// Comment.
    pub comment: Option<String>,
    /// XPath definition.
    pub definition: Option<String>,
    /// Kernel options.
    pub kernel_opts: Option<String>,
}

/// View of `tags/`.
#[derive(Debug, Clone, Copy)]
pub struct Tags<'a> {
    client: &'a MaasClient,
}

impl Tags<'_> {
    /// `GET tags/`.
    pub async fn list(&self) -> Result<Vec<Tag>> {
        self.client.get("tags/", None, &Params::new()).await
    }

    /// `GET tags/{name}/`.
    pub async fn get(&self, name: &str) -> Result<Tag> {
        self.client
            .get(&format!("tags/{name}/"), None, &Params::new())
            .await
    }

    /// `POST tags/` (a duplicate name is a 400 with a `name` field error).
    pub async fn create(&self, spec: &TagSpec) -> Result<Tag> {
        let p = opt_params(
            Params::new().with("name", &spec.name),
            &[
                ("comment", spec.comment.clone()),
                ("definition", spec.definition.clone()),
                ("kernel_opts", spec.kernel_opts.clone()),
            ],
        );
        self.client.post("tags/", None, &p).await
    }

    /// `DELETE tags/{name}/`.
    pub async fn delete(&self, name: &str) -> Result<()> {
        self.client
            .delete(&format!("tags/{name}/"), &Params::new())
            .await
    }

    /// `GET tags/{name}/?op=nodes`.
    pub async fn nodes(&self, name: &str) -> Result<Vec<Machine>> {
        self.client
            .get(&format!("tags/{name}/"), Some("nodes"), &Params::new())
            .await
    }

    /// `POST tags/{name}/?op=update_nodes` (repeated `add`/`remove` keys).
    pub async fn update_nodes(
        &self,
        name: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<UpdateNodesResult> {
        let p = Params::new()
            .with_list("add", add)
            .with_list("remove", remove);
        self.client
            .post(&format!("tags/{name}/"), Some("update_nodes"), &p)
            .await
    }
}

/// View of `account/prefs/sshkeys/`.
#[derive(Debug, Clone, Copy)]
pub struct SshKeys<'a> {
    client: &'a MaasClient,
}

impl SshKeys<'_> {
    /// `GET account/prefs/sshkeys/`.
    pub async fn list(&self) -> Result<Vec<SshKey>> {
        self.client
            .get("account/prefs/sshkeys/", None, &Params::new())
            .await
    }

    /// `POST account/prefs/sshkeys/` (MAAS answers 201).
    pub async fn create(&self, key: &str) -> Result<SshKey> {
        let p = Params::new().with("key", key);
        self.client.post("account/prefs/sshkeys/", None, &p).await
    }
}

/// Fields of a package repository create/update (lists comma-joined as MAAS' form expects).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepositorySpec {
    /// Name.
    pub name: Option<String>,
    /// URL.
    pub url: Option<String>,
    /// Distributions.
    pub distributions: Vec<String>,
    /// Components.
    pub components: Vec<String>,
    /// Disabled components.
    pub disabled_components: Vec<String>,
    /// Disabled pockets.
    pub disabled_pockets: Vec<String>,
    /// Architectures.
    pub arches: Vec<String>,
    /// GPG key.
    pub key: Option<String>,
    /// Enabled.
    pub enabled: Option<bool>,
}

impl RepositorySpec {
    fn params(&self) -> Params {
        let mut p = opt_params(
            Params::new(),
            &[
                ("name", self.name.clone()),
                ("url", self.url.clone()),
                ("key", self.key.clone()),
                ("enabled", self.enabled.map(|b| b.to_string())),
            ],
        );
        for (k, v) in [
            ("distributions", &self.distributions),
            ("components", &self.components),
            ("disabled_components", &self.disabled_components),
            ("disabled_pockets", &self.disabled_pockets),
            ("arches", &self.arches),
        ] {
            if !v.is_empty() {
                p.push(k, v.join(","));
            }
        }
        p
    }
}

/// View of `package-repositories/`.
#[derive(Debug, Clone, Copy)]
pub struct PackageRepositories<'a> {
    client: &'a MaasClient,
}

impl PackageRepositories<'_> {
    /// `GET package-repositories/`.
    pub async fn list(&self) -> Result<Vec<PackageRepository>> {
        self.client
            .get("package-repositories/", None, &Params::new())
            .await
    }

    /// `POST package-repositories/`.
    pub async fn create(&self, spec: &RepositorySpec) -> Result<PackageRepository> {
        self.client
            .post("package-repositories/", None, &spec.params())
            .await
    }

    /// `PUT package-repositories/{id}/`.
    pub async fn update(&self, id: i64, spec: &RepositorySpec) -> Result<PackageRepository> {
        self.client
            .put(&format!("package-repositories/{id}/"), &spec.params())
            .await
    }

    /// `DELETE package-repositories/{id}/`.
    pub async fn delete(&self, id: i64) -> Result<()> {
        self.client
            .delete(&format!("package-repositories/{id}/"), &Params::new())
            .await
    }
}

/// View of `boot-resources/`.
#[derive(Debug, Clone, Copy)]
pub struct BootResources<'a> {
    client: &'a MaasClient,
}

impl BootResources<'_> {
    /// `GET boot-resources/`.
    pub async fn list(&self) -> Result<Vec<BootResource>> {
        self.client
            .get("boot-resources/", None, &Params::new())
            .await
    }

    /// `GET boot-resources/?op=is_importing`.
    pub async fn is_importing(&self) -> Result<bool> {
        self.client
            .get("boot-resources/", Some("is_importing"), &Params::new())
            .await
    }
}

/// View of `rackcontrollers/`.
#[derive(Debug, Clone, Copy)]
pub struct RackControllers<'a> {
    client: &'a MaasClient,
}

impl RackControllers<'_> {
    /// `GET rackcontrollers/`.
    pub async fn list(&self) -> Result<Vec<RackController>> {
        self.client
            .get("rackcontrollers/", None, &Params::new())
            .await
    }

    /// `GET rackcontrollers/{system_id}/`.
    pub async fn get(&self, system_id: &str) -> Result<RackController> {
        let path = format!("rackcontrollers/{system_id}/");
        self.client.get(&path, None, &Params::new()).await
    }
}

impl MaasClient {
    /// View of `tags/`.
    pub fn tags(&self) -> Tags<'_> {
        Tags { client: self }
    }

    /// View of `account/prefs/sshkeys/`.
    pub fn ssh_keys(&self) -> SshKeys<'_> {
        SshKeys { client: self }
    }

    /// View of `package-repositories/`.
    pub fn package_repositories(&self) -> PackageRepositories<'_> {
        PackageRepositories { client: self }
    }

    /// View of `boot-resources/`.
    pub fn boot_resources(&self) -> BootResources<'_> {
        BootResources { client: self }
    }

    /// View of `rackcontrollers/`.
    pub fn rack_controllers(&self) -> RackControllers<'_> {
        RackControllers { client: self }
    }
}
