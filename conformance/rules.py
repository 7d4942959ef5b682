"""The rules the suite checks, one entry per rule of BEHAVIOR.md it covers.

Each rule has a level:
- ``DOC``: BigCommerce documents it; a failing check fails the run.
- ``CHOICE``: the docs are silent; the suite checks only the part BEHAVIOR's
  "(suite: ...)" note names, and that part fails the run. What the mock does beyond
  it is at most a ``should``.

Inside a test, ``must`` checks fail the run and ``should`` checks are reported as
warnings (BEHAVIOR's SHOULD items).
"""

from __future__ import annotations

from dataclasses import dataclass

DOC, CHOICE = "DOC", "CHOICE"


SEGMENTATION, CUSTOMERS, PROMOTIONS = "segmentation", "customers", "promotions"
SLICES = (SEGMENTATION, CUSTOMERS, PROMOTIONS)


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    section: str
    title: str
    operations: tuple[str, ...]
    # The slices of the API the rule's tests need served (a profile needs a customer).
    slices: tuple[str, ...] = (SEGMENTATION,)
    # Only --allow-destructive runs it: a default run may leave it out and still be conformant.
    destructive: bool = False


SEG, CUST, PROMO = (SEGMENTATION,), (SEGMENTATION, CUSTOMERS), (SEGMENTATION, PROMOTIONS)

_RULES = [
    # representations and the segment operations
    Rule("SEG-CREATE", DOC, "1, 2", "Creating segments answers 201 with one segment per item", ("SegmentsPostRequest",)),
    Rule("SEG-LIST", DOC, "1, 3", "Listed segments include the created ones; `id:in` narrows the list", ("GetPaginatedSegmentsList",)),
    Rule("SEG-UPDATE", DOC, "1, 5.3", "Updating answers 200 or 201; values change, `created_at` does not", ("PutSegmentObjects",)),
    Rule("SEG-UPDATE-NOOP", CHOICE, "5.3", "An item with only `id` is valid and changes nothing", ("PutSegmentObjects",)),
    Rule("SEG-DELETE", DOC, "1, 2", "Deleting by `id:in` answers 204 with no body and removes exactly those", ("DeleteStoreSegment",)),
    Rule("SEG-NAME-UNIQUE", DOC, "5", "A segment name used in the store or twice in a batch is 409 `Cannot have multiple segments with the same name.`", ("SegmentsPostRequest",)),
    Rule("SEG-RENAME-UNIQUE", DOC, "5, 5.1", "A PUT cannot give a segment a name another segment keeps (SHOULD: 409; two may swap names in one PUT)", ("PutSegmentObjects",)),
    Rule("SEG-NAMES", CHOICE, "5.1", "A one-character name and a description are stored as given (SHOULD: names 1..255, "
         "not only whitespace, case-sensitive; description at most 1000 characters, absent means \"\")", ("SegmentsPostRequest",)),
    Rule("DUPLICATE-IDS", CHOICE, "5", "The same ID twice in one update or add body is refused and writes nothing", ("PutSegmentObjects", "PostShopperProfile"), CUST),
    Rule("NO-COERCION", DOC, "3", "JSON integers are not coerced: `\"123\"`, `12.0` and `1e2` as a customer_id are refused", ("ShopperProfilesRequest",), CUST),
    Rule("SEG-CAP", DOC, "5.2", "A store never holds more than 1000 segments; a rejected batch creates nothing", ("SegmentsPostRequest",)),
    Rule("CREATE-FRESH-ID", DOC, "1, 5", "A create answers with the IDs of new items, never of items that existed (checked on every create)", ("SegmentsPostRequest", "ShopperProfilesRequest", "createCustomers", "createPromotion")),
    Rule("IDS", DOC, "2", "Issued IDs are lowercase RFC 4122 UUIDs (segments and shopper profiles)", ("SegmentsPostRequest", "ShopperProfilesRequest"), CUST),
    Rule("TIMESTAMPS", DOC, "2", "Timestamps are RFC 3339 UTC, `Z`, whole seconds; equal on creation (segments and shopper profiles)", ("SegmentsPostRequest", "ShopperProfilesRequest"), CUST),
    # shopper profiles and memberships
    Rule("PROFILE-CREATE", DOC, "1, 2", "Creating shopper profiles answers 201 with one profile per item", ("ShopperProfilesRequest",), CUST),
    Rule("PROFILE-ONE-PER-CUSTOMER", DOC, "1, 6", "A customer has at most one shopper profile", ("ShopperProfilesRequest",), CUST),
    Rule("PROFILE-NO-GUESTS", DOC, "1", "Guests (customer_id 0) cannot have a shopper profile, where a registered customer can", ("ShopperProfilesRequest",), CUST),
    Rule("MEMBER-ADD", DOC, "1, 2", "Adding profiles answers 201 with the full profiles, `meta` absent or empty", ("PostShopperProfile",), CUST),
    Rule("MEMBER-ADD-BUMPS", DOC, "2", "Adding a profile to a segment moves its `updated_at`", ("PostShopperProfile",), CUST),
    Rule("MEMBER-REMOVE-BUMPS", CHOICE, "2", "Removing a profile from a segment moves its `updated_at` (SHOULD)", ("DeleteShopperProfile",), CUST),
    Rule("MEMBER-CONFLICT", DOC, "5", "A profile already in the segment is 409 in the batch envelope, `Shopper profile ... already exists for segment ...`", ("PostShopperProfile",), CUST),
    Rule("MEMBER-MAX-50", DOC, "5.2", "At most 50 profile IDs per add request; 50 are accepted", ("PostShopperProfile",), CUST),
    Rule("MEMBER-LISTS", DOC, "1", "A segment lists its profiles and a profile lists its segments", ("GetSegmentProfiles", "GetListShopperProfile"), CUST),
    Rule("REL-SEGMENT-DELETE", DOC, "6", "Deleting a segment leaves its profiles, no longer associated", ("DeleteStoreSegment",), CUST),
    Rule("REL-REMOVE", DOC, "1, 6", "Removing profiles from a segment by `id:in` removes only those, keeps them and their other segments", ("DeleteShopperProfile",), CUST),
    Rule("REL-PROFILE-DELETE", DOC, "6", "Deleting shopper profiles removes them from every segment", ("DeleteStoreShopperProfile",), CUST),
    Rule("UNSCOPED-DELETE", DOC, "1", "DELETE /segments without `id:in` deletes every segment (destructive)", ("DeleteStoreSegment",), SEG, True),
    Rule("UNSCOPED-MEMBER-REMOVE", DOC, "1", "DELETE of a segment's profiles without `id:in` empties the segment, profiles stay (destructive)", ("DeleteShopperProfile",), CUST, True),
    Rule("UNSCOPED-PROFILE-DELETE", DOC, "1", "DELETE /shopper-profiles without `id:in` deletes every profile (destructive)", ("DeleteStoreShopperProfile",), CUST, True),
    # the Customers slice (section 7)
    Rule("CUSTOMER-FIELDS", DOC, "7", "Customers carry the Customers V3 fields; created customers are listed by `id:in`", ("createCustomers", "getCustomers"), CUST),
    Rule("CUSTOMER-INCLUDE", DOC, "7", "`include=shopper_profile_id,segment_ids` adds the profile and its segments; neither appears unless asked for", ("getCustomers",), CUST),
    Rule("CUSTOMER-FILTERS", DOC, "7", "`getCustomers` filters (`email:in`, `name:in`, `name:like`, `company:in`, `customer_group_id:in`, "
         "dates) narrow the list, `sort` orders it, `meta.pagination.links` is present", ("getCustomers",), CUST),
    Rule("CUSTOMER-UPDATE", DOC, "7", "`updateCustomers` changes the fields it is given, answers 200, keeps the rest; an unknown id is refused",
         ("updateCustomers",), CUST),
    Rule("CUSTOMER-EMAIL-UNIQUE", CHOICE, "7", "An email already used (any case) is refused and nothing of the batch is created", ("createCustomers",), CUST),
    Rule("CUSTOMER-DELETE", DOC, "7", "Deleting customers by `id:in` deletes exactly those, with their shopper profiles and memberships", ("deleteCustomers",), CUST),
    # lists
    Rule("PAGE-DEFAULTS", DOC, "3", "`page` defaults to 1 and `limit` to 50; pagination fields are consistent", ("GetPaginatedSegmentsList", "GetShopperList"), CUST),
    Rule("PAGE-LIMIT", CHOICE, "3", "Out-of-range `page`/`limit` never give 5xx nor 2xx with more than 250 items (asked where more than 250 exist)", ("GetPaginatedSegmentsList",)),
    Rule("PAGE-PAST-END", CHOICE, "3", "A page past the end is not 5xx (SHOULD: 200 with empty data)", ("GetPaginatedSegmentsList",)),
    Rule("PAGE-STABLE", CHOICE, "3", "Pages do not repeat or skip items while the set is unchanged", ("GetPaginatedSegmentsList",)),
    Rule("IDIN-FORMS", CHOICE, "3", "`id:in` takes a comma list (SHOULD: also repeated, entries trimmed)", ("GetPaginatedSegmentsList",)),
    Rule("IDIN-EMPTY", DOC, "3", "A present but empty `id:in` selects nothing; only an absent one means all", ("GetPaginatedSegmentsList",)),
    Rule("IDIN-MALFORMED", CHOICE, "3", "A malformed `id:in` entry never gives 5xx and never widens a selection", ("GetPaginatedSegmentsList",)),
    Rule("IDIN-MALFORMED-DELETE", CHOICE, "3", "A malformed or empty `id:in` never widens a delete (destructive)", ("DeleteStoreSegment",), SEG, True),
    # protocol
    Rule("AUTH", DOC, "4", "A missing or unknown X-Auth-Token is 401", ("GetPaginatedSegmentsList",)),
    Rule("AUTH-OTHER-STORE", CHOICE, "4", "A token on another store is 4xx and shows no data", ("GetPaginatedSegmentsList",)),
    Rule("SCOPES", DOC, "4", "The read-only token reads (except a segment's profiles) and gets 403 on writes", ("GetSegmentProfiles", "SegmentsPostRequest")),
    Rule("CONTENT-NEGOTIATION", CHOICE, "5", "Accept forms that mean JSON are served and ones that exclude it refused; `application/json; charset=utf-8` bodies are read", ("GetPaginatedSegmentsList", "SegmentsPostRequest")),
    Rule("ERROR-ENVELOPE", DOC, "5", "Errors use the platform's envelope: status, title, type, errors", ("SegmentsPostRequest",)),
    Rule("ERROR-STATUS", CHOICE, "5", "Bad input gets a 4xx that refuses it as invalid (never 2xx, 5xx, or an auth or route error) and writes nothing", ("SegmentsPostRequest", "PostShopperProfile", "PutSegmentObjects"), CUST),
    Rule("BATCH-ATOMIC", CHOICE, "5", "After a failed batch none of its items exist", ("SegmentsPostRequest", "PostShopperProfile"), CUST),
    Rule("ROUTES", CHOICE, "5", "Unknown routes and undocumented methods are 4xx (SHOULD: 404, and 405 with Allow)", ("GetPaginatedSegmentsList",)),
    Rule("RATE-LIMIT-HEADERS", DOC, "8", "Every response carries the four X-Rate-Limit-* headers", ("GetPaginatedSegmentsList",)),
    # promotions (section 9)
    Rule("PROMO-CREATE", DOC, "9.2", "A promotion targeting segments is created with its documented fields and defaults (every property the reference's saved promotion requires), read back and deleted", ("createPromotion", "getPromotion", "deletePromotion"), PROMO),
    Rule("PROMO-GRAMMAR", DOC, "9.1", "An expression that breaks the grammar (four levels, `and` of one, a non-UUID) is refused where a valid one is accepted", ("createPromotion",), PROMO),
    Rule("PROMO-UNKNOWN-SEGMENT", DOC, "9.2", "A promotion naming a segment the store lacks is refused and not created, where the same naming a segment it has is accepted", ("createPromotion",), PROMO),
    Rule("PROMO-GROUPS", DOC, "9.1", "`group_ids` and `excluded_group_ids` cannot both be non-empty", ("createPromotion",), PROMO),
    Rule("PROMO-LIST", DOC, "9.2", "Promotions are listed, narrowed by `id:in` and by `redemption_type` (the reference's lowercase values too)", ("getPromotions",), PROMO),
    Rule("PROMO-UPDATE", DOC, "9.2", "PUT changes the fields it names (200 or 201), is validated like POST, and cannot change `redemption_type`", ("updatePromotion",), PROMO),
    Rule("PROMO-DELETE-MANY", DOC, "9.2", "DELETE /promotions by `id:in` deletes exactly those", ("deletePromotions",), PROMO),
    Rule("PROMO-CODES", DOC, "9.2", "A COUPON promotion takes codes (unique in the store, any case), lists them and deletes them by `id:in` or by ID; an AUTOMATIC one refuses them", ("createPromotionCode", "getPromotionCodes", "deleteCouponCodes", "deleteCouponCode"), PROMO),
    Rule("PROMO-DATES", DOC, "9.2", "Dates are echoed as given; an end before the start is refused, on POST and PUT", ("createPromotion", "updatePromotion"), PROMO),
    # the whole document
    Rule("SCHEMA", DOC, "1-5", "Responses to generated requests conform to what the document requires at BEHAVIOR's DOC level (Schemathesis)", (), (SEGMENTATION, CUSTOMERS, PROMOTIONS)),
]

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}
