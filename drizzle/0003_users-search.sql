DROP INDEX "users_name_lower_idx";--> statement-breakpoint
CREATE INDEX "users_order_idx" ON "users" USING btree (lower("name"),"email");--> statement-breakpoint
CREATE INDEX "users_required_order_idx" ON "users" USING btree (lower("name"),"email") WHERE "users"."two_factor_required";--> statement-breakpoint
CREATE INDEX "users_name_trgm_idx" ON "users" USING gin (lower("name") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "users_email_trgm_idx" ON "users" USING gin ("email" gin_trgm_ops);