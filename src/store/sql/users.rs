// Included by `shared.rs`: `UserStore` for the SQL stores.

#[async_trait]
impl UserStore for This {
    async fn find_by_identity(&self, identity: &Identity) -> Result<Option<User>, StoreError> {
        let op = "find user by identity";
        self.run(op, async {
            let row = sqlx::query(concat!(
                "SELECT ",
                user_cols!(),
                " FROM tower_oidc_users WHERE id = (SELECT user_id FROM tower_oidc_identities \
                 WHERE provider = $1 AND issuer = $2 AND subject = $3)"
            ))
            .bind(&identity.provider)
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            row.as_ref().map(user_from_row).transpose()
        })
        .await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let op = "find user by email";
        let email = canonical_email(email);
        self.run(op, async {
            let row = sqlx::query(concat!(
                "SELECT ",
                user_cols!(),
                " FROM tower_oidc_users WHERE email = $1"
            ))
            .bind(&email)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            row.as_ref().map(user_from_row).transpose()
        })
        .await
    }

    async fn get(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let op = "get user";
        self.run(op, async {
            let row = sqlx::query(concat!(
                "SELECT ",
                user_cols!(),
                " FROM tower_oidc_users WHERE id = $1"
            ))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            row.as_ref().map(user_from_row).transpose()
        })
        .await
    }

    async fn create_with_identity(
        &self,
        user: NewUser,
        identity: &Identity,
    ) -> Result<User, StoreError> {
        let op = "create user";
        let me = |e| map_err(op, e);
        let user = NewUser {
            email: user.email.as_deref().map(canonical_email),
            ..user
        };
        let user = User::from_new(UserId::random(), user);
        let groups = to_json(op, &user.groups)?;
        self.run(op, async {
            let now = now_secs();
            // Writes only, user row first: the unique keys (identity primary key, email) decide
            // the race between concurrent first sign-ins, and the loser's whole transaction
            // (its user row included) rolls back.
            let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(me)?;
            sqlx::query(
                "INSERT INTO tower_oidc_users (id, email, email_verified, name, given_name, \
                 family_name, picture, username, groups_json, is_admin, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
            )
            .bind(user.id.as_str())
            .bind(&user.email)
            .bind(user.email_verified)
            .bind(&user.name)
            .bind(&user.given_name)
            .bind(&user.family_name)
            .bind(&user.picture)
            .bind(&user.username)
            .bind(&groups)
            .bind(user.is_admin)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(me)?;
            sqlx::query(
                "INSERT INTO tower_oidc_identities (provider, issuer, subject, user_id, \
                 created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&identity.provider)
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .bind(user.id.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(me)?;
            tx.commit().await.map_err(me)?;
            Ok(user)
        })
        .await
    }

    async fn link_identity(&self, user: &UserId, identity: &Identity) -> Result<(), StoreError> {
        let op = "link identity";
        let me = |e| map_err(op, e);
        self.run(op, async {
            // One statement: inserts only when the user exists and the identity is free.
            let done = sqlx::query(
                "INSERT INTO tower_oidc_identities (provider, issuer, subject, user_id, \
                 created_at) SELECT $1, $2, $3, u.id, $5 FROM tower_oidc_users u WHERE u.id = $4 \
                 ON CONFLICT (provider, issuer, subject) DO NOTHING",
            )
            .bind(&identity.provider)
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .bind(user.as_str())
            .bind(now_secs())
            .execute(&self.pool)
            .await
            .map_err(me)?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
            let owner: Option<String> = sqlx::query_scalar(
                "SELECT user_id FROM tower_oidc_identities \
                 WHERE provider = $1 AND issuer = $2 AND subject = $3",
            )
            .bind(&identity.provider)
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .fetch_optional(&self.pool)
            .await
            .map_err(me)?;
            match owner {
                Some(o) if o == user.as_str() => Ok(()),
                Some(_) => Err(StoreError::conflict(
                    op,
                    "identity already linked to another user",
                )),
                None => Err(not_found(op)),
            }
        })
        .await
    }

    async fn update(&self, user: &UserId, update: UserUpdate) -> Result<User, StoreError> {
        let op = "update user";
        let groups = to_json(op, &update.groups)?;
        self.run(op, async {
            let row = sqlx::query(concat!(
                "UPDATE tower_oidc_users SET name = $2, given_name = $3, family_name = $4, \
                 picture = $5, username = $6, groups_json = $7, \
                 is_admin = COALESCE($8, is_admin), updated_at = $9 WHERE id = $1 RETURNING ",
                user_cols!()
            ))
            .bind(user.as_str())
            .bind(&update.name)
            .bind(&update.given_name)
            .bind(&update.family_name)
            .bind(&update.picture)
            .bind(&update.username)
            .bind(&groups)
            .bind(update.is_admin)
            .bind(now_secs())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            match row {
                Some(row) => user_from_row(&row),
                None => Err(not_found(op)),
            }
        })
        .await
    }

    async fn identities(&self, user: &UserId) -> Result<Vec<Identity>, StoreError> {
        let op = "list identities";
        self.run(op, async {
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT provider, issuer, subject FROM tower_oidc_identities WHERE user_id = $1 \
                 ORDER BY provider, issuer, subject",
            )
            .bind(user.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            let mut ids: Vec<Identity> = rows
                .into_iter()
                .map(|(provider, issuer, subject)| Identity {
                    provider,
                    issuer,
                    subject,
                })
                .collect();
            // The same order as `Identity`'s `Ord`, whatever the database's collation.
            ids.sort();
            Ok(ids)
        })
        .await
    }
}
