-- wrk script: POST an expense as many users in turn. BENCH_USERS names a file of lines
-- "token wallet_id category_id"; each request takes the next line. BENCH_DATE is the date.
local users = {}
local date = os.getenv("BENCH_DATE")
for line in io.lines(os.getenv("BENCH_USERS")) do
  local token, wallet, category = line:match("(%S+)%s+(%S+)%s+(%S+)")
  if token then
    users[#users + 1] = {
      headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token},
      body = '{"type":"expense","amount":12.34,"date":"' .. date .. '","description":"Coffee",'
        .. '"merchant":"Bean There","category_id":"' .. category .. '","wallet_id":"' .. wallet .. '"}',
    }
  end
end
local next_user = 0

request = function()
  next_user = next_user % #users + 1
  local user = users[next_user]
  return wrk.format("POST", "/api/v1/transactions", user.headers, user.body)
end
