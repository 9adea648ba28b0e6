DROP INDEX "audit_events_target_at_idx";--> statement-breakpoint
CREATE INDEX "audit_events_target_at_id_idx" ON "audit_events" USING btree ("target_user_id","at","id");--> statement-breakpoint
CREATE INDEX "audit_events_actor_at_id_idx" ON "audit_events" USING btree ("actor_user_id","at","id");