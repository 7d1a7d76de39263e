"""The transactional outbox: domain events leave the database in the writer's transaction."""
