//! The OpenAPI document at `GET /openapi.json`, generated from the handlers' annotations and
//! the request and response types, so it cannot drift from the code.

use axum::Json;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, ContentBuilder, Ref, ResponseBuilder,
        security::{ApiKey, ApiKeyValue, SecurityScheme},
    },
};

use crate::{metal, persona};

/// Both surfaces: persona under `/v1`, Equinix Metal under `/metal/v1`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "passreset",
        description = "Self-service password reset: KSF Media's persona AccountApi and Equinix \
                       Metal's PasswordResetTokensApi."
    ),
    nest(
        (path = "/v1", api = PersonaApi),
        (path = "/metal/v1", api = MetalApi),
    ),
    modifiers(&SecurityAndCommonErrors),
)]
pub(crate) struct ApiDoc;

#[derive(OpenApi)]
#[openapi(
    paths(persona::forgot, persona::check_token, persona::reset),
    components(schemas(
        persona::error_body::PersonaBadRequest,
        persona::error_body::BadRequestStatus,
        persona::error_body::InvalidRequestBody,
        persona::error_body::InvalidRequestBodyDescription,
        persona::error_body::InvalidFormFields,
        persona::error_body::PersonaUnsupportedMediaType,
        persona::error_body::UnsupportedMediaTypeStatus,
        persona::error_body::UnsupportedMediaTypeDetail,
        persona::error_body::PersonaErrorBody,
        persona::error_body::PersonaErrorDetail,
    ))
)]
struct PersonaApi;

#[derive(OpenApi)]
#[openapi(
    paths(metal::create_password_reset_token, metal::reset_password),
    components(schemas(metal::MetalErrorBody, metal::NewPasswordBody))
)]
struct MetalApi;

/// Adds the `x_auth_token` scheme and the errors every operation can answer (body too large,
/// not JSON, rate limited, upstream down or slow), each in its surface's error shape.
struct SecurityAndCommonErrors;

/// Status, description, and whether the persona surface (JSON bodies) can answer it.
const COMMON_ERRORS: &[(&str, &str, bool)] = &[
    ("413", "The request body is larger than 16 KiB", true),
    ("415", "Unsupported media type", true),
    ("429", "Too many requests; see Retry-After", false),
    (
        "503",
        "An upstream service is unavailable; see Retry-After",
        false,
    ),
    ("504", "An upstream service did not answer in time", false),
];

/// The schema of a common error on a surface: persona's 415 has a model of its own.
fn schema_of(status: &str, metal: bool) -> &'static str {
    match (metal, status) {
        (true, _) => "Error",
        (false, "415") => "PersonaUnsupportedMediaType",
        (false, _) => "PersonaError",
    }
}

impl Modify for SecurityAndCommonErrors {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "x_auth_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Auth-Token"))),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let metal = path.starts_with("/metal/");
            let json_bodies = !metal;
            for operation in [&mut item.post, &mut item.delete].into_iter().flatten() {
                for (status, description, persona_only) in COMMON_ERRORS {
                    if *persona_only && !json_bodies {
                        continue;
                    }
                    let response = ResponseBuilder::new()
                        .description(*description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name(schema_of(status, metal))))
                                .build(),
                        )
                        .build();
                    operation
                        .responses
                        .responses
                        .entry((*status).to_owned())
                        .or_insert(response.into());
                }
            }
        }
    }
}

/// `GET /openapi.json`.
pub(crate) async fn openapi_json() -> Json<openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> serde_json::Value {
        serde_json::to_value(ApiDoc::openapi()).unwrap()
    }

    #[test]
    fn the_document_names_the_seeds_operations_on_their_paths() {
        let doc = document();
        let operation_id =
            |path: &str, method: &str| doc["paths"][path][method]["operationId"].clone();
        assert_eq!(
            operation_id("/v1/account/password/forgot", "post"),
            "accountPasswordForgotPost"
        );
        assert_eq!(
            operation_id("/v1/account/password/check-token", "post"),
            "accountPasswordCheckTokenPost"
        );
        assert_eq!(
            operation_id("/v1/account/password/reset", "post"),
            "accountPasswordResetPost"
        );
        assert_eq!(
            operation_id("/metal/v1/reset-password", "post"),
            "createPasswordResetToken"
        );
        assert_eq!(
            operation_id("/metal/v1/reset-password", "delete"),
            "resetPassword"
        );
    }

    #[test]
    fn the_document_has_the_seeds_models_and_security_scheme() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        for model in [
            "ForgotPasswordData",
            "UpdatePasswordData",
            "NewPassword",
            "Error",
            "PersonaError",
            "PersonaBadRequest",
            "PersonaUnsupportedMediaType",
        ] {
            assert!(schemas[model].is_object(), "{model} missing");
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["x_auth_token"]["name"],
            "X-Auth-Token"
        );
        let delete = &doc["paths"]["/metal/v1/reset-password"]["delete"];
        assert!(delete["responses"]["201"].is_object());
        assert!(delete["responses"]["401"].is_object());
        assert!(delete["responses"]["503"].is_object());
    }

    #[test]
    fn personas_operations_document_exactly_its_statuses_and_pinned_strings() {
        let doc = document();
        for operation in ["forgot", "check-token", "reset"] {
            let responses =
                &doc["paths"][format!("/v1/account/password/{operation}")]["post"]["responses"];
            assert!(responses["204"].is_object(), "{operation}");
            assert!(
                responses["403"].is_null(),
                "{operation}: a token error is a 400"
            );
            assert_eq!(
                responses["400"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/PersonaBadRequest"
            );
            assert_eq!(
                responses["415"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/PersonaUnsupportedMediaType"
            );
        }
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["BadRequestStatus"]["enum"],
            serde_json::json!(["Bad request"])
        );
        assert_eq!(
            schemas["InvalidRequestBodyDescription"]["enum"],
            serde_json::json!(["Could not parse the request body."])
        );
        assert_eq!(
            schemas["UnsupportedMediaTypeStatus"]["enum"],
            serde_json::json!(["Unsupported media type"])
        );
    }
}
