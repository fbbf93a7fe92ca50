use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json, spawn_app};

#[tokio::test]
async fn new_users_get_a_default_tree() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let flat = app.data(&user, "/api/v1/categories?per_page=200").await;
    assert!(flat.as_array().unwrap().len() >= 20);
    let tree = app
        .data(&user, "/api/v1/categories?tree=true&kind=expense")
        .await;
    let food = tree
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Food & Dining")
        .expect("Food & Dining");
    let children: Vec<&str> = food["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(children, vec!["Cafe", "Groceries", "Restaurants"]);
    assert!(tree
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["kind"] == "expense"));
    let income = app.data(&user, "/api/v1/categories?kind=income").await;
    let names: Vec<&str> = income
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for name in ["Salary", "Bonus", "Investment income"] {
        assert!(names.contains(&name), "{names:?}");
    }
}

#[tokio::test]
async fn sub_categories_take_their_parents_kind_and_names_are_unique_per_parent() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let food = app.category_id(&user, "Food & Dining").await;
    let create = |body: Value| {
        app.send_as(
            Method::POST,
            "/api/v1/categories",
            &user.access_token,
            Some(&body),
        )
    };

    let (status, body) = json(create(json!({"name": "Bubble tea", "parent_id": food})).await).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["kind"], "expense");
    assert_eq!(body["data"]["parent_id"], food.as_str());

    assert_error(
        create(json!({"name": "bubble TEA", "parent_id": food})).await,
        409,
        "category_name_taken",
    )
    .await;
    let (status, _) = json(create(json!({"name": "Bubble tea", "kind": "expense"})).await).await;
    assert_eq!(status, 201, "the same name elsewhere in the tree is fine");
    // Case in any script and spacing do not make a name new (CSV import matches names so).
    let (status, body) = json(create(json!({"name": "Ăn vặt", "parent_id": food})).await).await;
    assert_eq!(status, 201, "{body}");
    let snacks = body["data"]["id"].as_str().unwrap().to_owned();
    for twin in ["ĂN VẶT", "ăn  vặt", "Bubble  Tea"] {
        assert_error(
            create(json!({"name": twin, "parent_id": food})).await,
            409,
            "category_name_taken",
        )
        .await;
    }
    let rename = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/categories/{snacks}"),
            &user.access_token,
            Some(&json!({"name": "bubble tea"})),
        )
        .await;
    assert_error(rename, 409, "category_name_taken").await;

    let mismatch = create(json!({"name": "Tips", "parent_id": food, "kind": "income"})).await;
    let body = assert_error(mismatch, 422, "validation_failed").await;
    assert!(body["errors"]["kind"].is_array());
    assert_error(
        create(json!({"name": "Loose"})).await,
        422,
        "validation_failed",
    )
    .await;
    let unknown = create(json!({"name": "Orphan", "parent_id": uuid::Uuid::new_v4()})).await;
    assert_error(unknown, 404, "not_found").await;
    let bad_color = create(json!({"name": "Pink", "kind": "expense", "color": "pink"})).await;
    assert_error(bad_color, 422, "validation_failed").await;
}

#[tokio::test]
async fn a_category_cannot_move_under_itself_or_across_kinds() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let food = app.category_id(&user, "Food & Dining").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let salary = app.category_id(&user, "Salary").await;
    let patch = |id: &str, body: Value| {
        app.send_as(
            Method::PATCH,
            &format!("/api/v1/categories/{id}"),
            &user.access_token,
            Some(&body),
        )
    };
    let body = assert_error(
        patch(&food, json!({"parent_id": cafe})).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["errors"]["parent_id"].is_array());
    assert_error(
        patch(&food, json!({"parent_id": food})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        patch(&cafe, json!({"parent_id": salary})).await,
        422,
        "validation_failed",
    )
    .await;

    let (status, body) = json(
        patch(
            &cafe,
            json!({"parent_id": null, "name": "Coffee", "icon": null}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["parent_id"], Value::Null);
    assert_eq!(body["data"]["name"], "Coffee");
    assert_eq!(body["data"]["icon"], Value::Null);
}

#[tokio::test]
async fn deleting_a_used_category_needs_a_reassignment_done_in_one_go() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let other = app.register("bob@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let restaurants = app.category_id(&user, "Restaurants").await;
    let salary = app.category_id(&user, "Salary").await;
    let food = app.category_id(&user, "Food & Dining").await;
    let others_cafe = app.category_id(&other, "Cafe").await;
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 3, "category_id": cafe, "wallet_id": wallet}),
    )
    .await;
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 10, "wallet_id": wallet,
        "splits": [{"category_id": cafe, "amount": 4}, {"category_id": restaurants, "amount": 6}]}),
    )
    .await;
    // Budgets and a bill use it too: one budget tracks both categories, one Cafe alone.
    let mut budgets = Vec::new();
    for categories in [json!([cafe, restaurants]), json!([cafe])] {
        let budget = app
            .data_of(
                &user,
                Method::POST,
                "/api/v1/budgets",
                json!({"name": "Eating", "amount": 100, "period": "monthly",
                       "category_ids": categories}),
            )
            .await;
        budgets.push(budget["id"].as_str().unwrap().to_owned());
    }
    let bill = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/bills",
            json!({"name": "Coffee club", "amount": 9, "category_id": cafe,
                   "wallet_id": wallet, "frequency": "monthly", "next_due_date": "2030-01-05"}),
        )
        .await;
    // And a rule: moved with the rest, never deleted with the category.
    let rule = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/rules",
            json!({"name": "Coffee", "payee_contains": "starbucks", "category_id": cafe, "add_tags": ["coffee"]}),
        )
        .await;
    let delete = |path: String| app.send_as(Method::DELETE, &path, &user.access_token, None);

    assert_error(
        delete(format!("/api/v1/categories/{cafe}")).await,
        409,
        "category_in_use",
    )
    .await;
    assert_error(
        delete(format!("/api/v1/categories/{food}")).await,
        409,
        "category_has_children",
    )
    .await;
    assert_error(
        delete(format!(
            "/api/v1/categories/{cafe}?reassign_to={others_cafe}"
        ))
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        delete(format!("/api/v1/categories/{cafe}?reassign_to={salary}")).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM categories WHERE id = '{cafe}'"
        )),
        1
    );

    let (status, _) = json(
        delete(format!(
            "/api/v1/categories/{cafe}?reassign_to={restaurants}"
        ))
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.scalar(&format!(
            "SELECT (SELECT count(*) FROM transactions WHERE category_id = '{restaurants}') \
                  + (SELECT count(*) FROM transaction_splits WHERE category_id = '{restaurants}') AS value"
        )),
        3
    );
    // The budgets track Restaurants now (the one that tracked both, once), and the bill moved.
    for budget in &budgets {
        let budget = app.data(&user, &format!("/api/v1/budgets/{budget}")).await;
        assert_eq!(
            budget["categories"][0]["id"],
            json!(restaurants),
            "{budget}"
        );
        assert_eq!(
            budget["categories"].as_array().unwrap().len(),
            1,
            "{budget}"
        );
    }
    let bill = app
        .data(
            &user,
            &format!("/api/v1/bills/{}", bill["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(bill["category_id"], json!(restaurants), "{bill}");
    let rule = app
        .data(
            &user,
            &format!("/api/v1/rules/{}", rule["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(rule["category_id"], json!(restaurants), "{rule}");
    assert_eq!(rule["add_tags"], json!(["coffee"]), "{rule}");
    // A category only a rule uses is in use too.
    let unused = app.category_id(&user, "Education").await;
    let rule = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/rules",
            json!({"name": "School", "payee_contains": "tuition", "category_id": unused}),
        )
        .await;
    assert_error(
        delete(format!("/api/v1/categories/{unused}")).await,
        409,
        "category_in_use",
    )
    .await;
    delete(format!("/api/v1/rules/{}", rule["id"].as_str().unwrap())).await;
    let (status, _) = json(delete(format!("/api/v1/categories/{unused}")).await).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn standard_descriptions_belong_to_their_category() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let other = app.register("bob@example.com").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let path = format!("/api/v1/categories/{cafe}/descriptions");
    let (status, body) = json(
        app.send_as(
            Method::POST,
            &path,
            &user.access_token,
            Some(&json!({"text": " Morning coffee "})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    let again = app
        .send_as(
            Method::POST,
            &path,
            &user.access_token,
            Some(&json!({"text": "morning COFFEE"})),
        )
        .await;
    assert_error(again, 409, "description_exists").await;
    assert_eq!(app.data(&user, &path).await[0]["text"], "Morning coffee");

    assert_error(
        app.get_as(&path, &other.access_token).await,
        404,
        "not_found",
    )
    .await;
    let steal = app
        .send_as(
            Method::DELETE,
            &format!("{path}/{id}"),
            &other.access_token,
            None,
        )
        .await;
    assert_error(steal, 404, "not_found").await;
    let (status, _) = json(
        app.send_as(
            Method::DELETE,
            &format!("{path}/{id}"),
            &user.access_token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.data(&user, &path).await, json!([]));
}

#[tokio::test]
async fn another_users_category_is_404_everywhere() {
    let app = spawn_app().await;
    let owner = app.register("ana@example.com").await;
    let other = app.register("bob@example.com").await;
    let cafe = app.category_id(&owner, "Cafe").await;
    let path = format!("/api/v1/categories/{cafe}");
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"name": "x"}))),
        (Method::DELETE, None),
    ] {
        assert_error(
            app.send_as(method, &path, &other.access_token, body.as_ref())
                .await,
            404,
            "not_found",
        )
        .await;
    }
    let as_parent = app
        .send_as(
            Method::POST,
            "/api/v1/categories",
            &other.access_token,
            Some(&json!({"name": "Mine", "parent_id": cafe})),
        )
        .await;
    assert_error(as_parent, 404, "not_found").await;
    let others_food = app.category_id(&other, "Food & Dining").await;
    let as_new_parent = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/categories/{others_food}"),
            &other.access_token,
            Some(&json!({"parent_id": cafe})),
        )
        .await;
    assert_error(as_new_parent, 404, "not_found").await;
}

#[tokio::test]
async fn the_tree_is_at_most_five_levels_deep() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let mut parent = app.category_id(&user, "Cafe").await; // level 2
    for level in 3..=5 {
        let (status, body) = json(
            app.send_as(
                Method::POST,
                "/api/v1/categories",
                &user.access_token,
                Some(&json!({"name": format!("level {level}"), "parent_id": parent})),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{body}");
        parent = body["data"]["id"].as_str().unwrap().to_owned();
    }
    let too_deep = app
        .send_as(
            Method::POST,
            "/api/v1/categories",
            &user.access_token,
            Some(&json!({"name": "level 6", "parent_id": parent})),
        )
        .await;
    assert_error(too_deep, 422, "validation_failed").await;
    // Moving a two-level subtree under level 4 would make it six deep.
    let food = app.category_id(&user, "Transportation").await;
    let level4 = app.category_id(&user, "level 4").await;
    let move_deep = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/categories/{food}"),
            &user.access_token,
            Some(&json!({"parent_id": level4})),
        )
        .await;
    assert_error(move_deep, 422, "validation_failed").await;
}

#[tokio::test]
async fn a_name_of_invisible_characters_only_is_blank() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    for (path, extra) in [
        ("/api/v1/categories", json!({"kind": "expense"})),
        (
            "/api/v1/wallets",
            json!({"type": "cash", "currency": "USD"}),
        ),
    ] {
        for name in ["\u{200b}", " \u{00ad}\u{200d} ", "\u{feff}"] {
            let mut body = extra.clone();
            body["name"] = json!(name);
            let response = app
                .send_as(Method::POST, path, &user.access_token, Some(&body))
                .await;
            let error = assert_error(response, 422, "validation_failed").await;
            assert_eq!(
                error["errors"]["name"][0], "must not be blank",
                "{path} {name:?}"
            );
        }
    }
    // A visible name around an invisible character is still a name.
    let (status, body) = json(
        app.send_as(
            Method::POST,
            "/api/v1/categories",
            &user.access_token,
            Some(&json!({"name": "Tea\u{200b}", "kind": "expense"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
}
