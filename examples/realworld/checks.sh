# checks.sh - conduitd's own checks, beyond what RealWorld's suite asks:
# the choices this implementation made where the spec leaves them open
# (limit/offset bounds, the "feed" slug, tag order and repeats, comment
# ids that are not numbers, counts past the last page, favorites of
# another user).  Sourced by bruno.sh, which runs rw_checks URL against
# the same conduitd; needs curl and jq.  Counts into rw_pass/rw_fail.

rw_pass=0
rw_fail=0
rw_ok() {
    if "${@:2}"; then
        rw_pass=$((rw_pass + 1))
        echo "  ok:   $1"
    else
        rw_fail=$((rw_fail + 1))
        echo "  FAIL: $1 (status $status: $(head -c 300 "$rw_body"))"
    fi
}

# req METHOD PATH [TOKEN [JSON]]: $status and the body in $rw_body.
req() {
    local args=(-s -o "$rw_body" -w '%{http_code}' -X "$1")
    [ -n "${3:-}" ] && args+=(-H "Authorization: Token $3")
    [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' -d "$4")
    status=$(curl "${args[@]}" "$rw_url$2")
}
# is STATUS [JQ-EXPRESSION]: the last answer had STATUS and, when given,
# the expression is true of its body.
is() {
    [ "$status" = "$1" ] || return 1
    [ -z "${2:-}" ] || jq -e "$2" "$rw_body" >/dev/null
}
register() {
    req POST /api/users "" "{\"user\": {\"username\": \"$1\",
        \"email\": \"$1@example.com\", \"password\": \"password123\"}}"
    jq -r .user.token "$rw_body"
}
article() {
    req POST /api/articles "$1" "{\"article\": {\"title\": \"$2\",
        \"description\": \"d\", \"body\": \"b\", \"tagList\": $3}}"
}

rw_checks() {
    local uid a b slug id
    rw_url=$1
    rw_body=$(mktemp)
    uid="k$(date +%s)$$"
    a=$(register "a_$uid")
    b=$(register "b_$uid")

    for q in limit=0 limit=101 limit=abc limit= limit=-1 limit=1.5; do
        req GET "/api/articles?$q"
        rw_ok "GET /api/articles?$q is 422 {errors: {limit}}" \
            is 422 '.errors.limit[0] | type == "string"'
    done
    for q in offset=-1 offset=100001 offset=x; do
        req GET "/api/articles?$q"
        rw_ok "GET /api/articles?$q is 422 {errors: {offset}}" \
            is 422 '.errors.offset[0] | type == "string"'
    done
    req GET "/api/articles/feed?limit=0" "$a"
    rw_ok "the feed refuses limit=0 with 422" is 422 '.errors.limit != null'

    article "$a" "Feed" '[]'
    slug=$(jq -r .article.slug "$rw_body")
    rw_ok "an article titled Feed does not get the slug feed" \
        is 201 '.article.slug | startswith("feed-")'
    req GET "/api/articles/$slug"
    rw_ok "... and is found by its slug" is 200 '.article.title == "Feed"'
    req GET /api/articles/feed "$a"
    rw_ok "... while /api/articles/feed stays the feed" is 200 '.articles'

    article "$a" "Tags $uid" "[\"z_$uid\", \" a_$uid \", \"z_$uid\"]"
    rw_ok "tagList keeps the order given, without blanks or repeats" \
        is 201 ".article.tagList == [\"z_$uid\", \"a_$uid\"]"
    slug=$(jq -r .article.slug "$rw_body")
    req GET "/api/articles?tag=a_$uid"
    rw_ok "?tag= finds the trimmed tag" \
        is 200 ".articlesCount == 1 and .articles[0].slug == \"$slug\""
    req GET "/api/articles?tag=&author=a_$uid"
    rw_ok "an empty filter filters nothing" is 200 '.articlesCount == 2'
    req GET "/api/articles?author=a_$uid&offset=2"
    rw_ok "a page past the last is empty and still counts every match" \
        is 200 '.articles == [] and .articlesCount == 2'
    req GET "/api/articles?author=a_$uid&limit=1&offset=1"
    rw_ok "limit and offset page newest first" \
        is 200 '.articles[0].title == "Feed" and .articlesCount == 2'

    req POST "/api/articles/$slug/favorite" "$b"
    rw_ok "another user's favorite: favorited for them, counted" \
        is 200 '.article.favorited == true and .article.favoritesCount == 1'
    req POST "/api/articles/$slug/favorite" "$b"
    rw_ok "favoriting twice counts once" is 200 '.article.favoritesCount == 1'
    req GET "/api/articles/$slug" "$a"
    rw_ok "... not favorited for the author, still counted" \
        is 200 '.article.favorited == false and .article.favoritesCount == 1'
    req GET "/api/articles?favorited=b_$uid"
    rw_ok "?favorited= lists what that user favorited" \
        is 200 ".articlesCount == 1 and .articles[0].slug == \"$slug\""

    req POST "/api/profiles/a_$uid/follow" "$b"
    req GET "/api/articles?author=a_$uid" "$b"
    rw_ok "a list shows whom the caller follows" \
        is 200 '[.articles[].author.following] == [true, true]'
    req GET "/api/articles?author=a_$uid"
    rw_ok "... and an anonymous list follows no one" \
        is 200 '[.articles[].author.following] == [false, false]'

    req POST "/api/articles/$slug/comments" "$b" '{"comment": {"body": "hi"}}'
    id=$(jq -r .comment.id "$rw_body")
    req DELETE "/api/articles/$slug/comments/abc" "$b"
    rw_ok "a comment id that is not a number is 404 {comment: not found}" \
        is 404 '.errors.comment == ["not found"]'
    req DELETE "/api/articles/$slug/comments/$id" "$a"
    rw_ok "the article's author cannot delete another's comment" \
        is 403 '.errors.comment == ["forbidden"]'
    req DELETE "/api/articles/$slug" "$a"
    rw_ok "deleting an article takes its comments and favorites" is 204
    req GET "/api/articles?favorited=b_$uid"
    rw_ok "... gone from ?favorited=" is 200 '.articlesCount == 0'

    req PUT "/api/articles/$slug" "$a" '{"article": {"title": "  "}}'
    rw_ok "PUT on a deleted article is 404 {article: not found}" \
        is 404 '.errors.article == ["not found"]'
    rm -f "$rw_body"
}
