// The retailer's name and look before sign-in, when the link names it (`?tenant=<slug>`):
// `tenantBranding` is open to anyone and answers the name and branding alone.
import { useQuery } from "./api.js";
import { applyBrand } from "./ui.js";

const BRANDING = `query Branding($slug: String!) {
  tenantBranding(slug: $slug) { name branding { logoUrl primaryColor accentColor } }
}`;

export function useBranding() {
  const slug = new URLSearchParams(location.search).get("tenant");
  const state = useQuery(BRANDING, { slug: slug ?? "" }, { skip: !slug });
  const tenant = state.data?.tenantBranding;
  if (tenant) applyBrand(tenant.branding);
  return tenant;
}
