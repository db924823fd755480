//! The persona, Metal and mail flows once more, on a Redis Cluster (three masters, three
//! replicas, started by the test): every store of every service works there unchanged.

use passreset_testkit::RedisCluster;

use crate::{
    helpers::spawn_app_on, metal::metal_reset_with_the_mailed_token,
    persona::reset_with_the_link_from_the_mail,
};

#[tokio::test]
async fn the_persona_flow_and_its_mails_work_on_a_redis_cluster() {
    let redis = RedisCluster::shared().await.test_redis();
    reset_with_the_link_from_the_mail(spawn_app_on(redis, &[]).await).await;
}

#[tokio::test]
async fn the_metal_flow_and_its_mails_work_on_a_redis_cluster() {
    let redis = RedisCluster::shared().await.test_redis();
    metal_reset_with_the_mailed_token(spawn_app_on(redis, &[]).await).await;
}
